<#
.SYNOPSIS
  Build Facemend for Windows: dist\Facemend\ (PyInstaller), a smoke test of the built
  Facemend.exe, then dist\Facemend-<version>-Setup.exe (Inno Setup).

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
  powershell -File packaging\windows\build_windows.ps1 -LargeBuild    # CUDA build (> 4 GB)

  PYTHON selects the interpreter (default .venv\Scripts\python.exe), ISCC the Inno Setup
  compiler (default: Inno Setup 6 in Program Files), FACEMEND_SHARED the folder holding
  testdata\ for the smoke test (default ..\shared; the smoke test is skipped without it).
#>
param([switch]$LargeBuild, [switch]$SkipInstaller)

$ErrorActionPreference = "Stop"
$Repo = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Repo
$Python = if ($env:PYTHON) { $env:PYTHON } else { "$Repo\.venv\Scripts\python.exe" }

& $Python -m PyInstaller --noconfirm --clean --log-level WARN build.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed ($LASTEXITCODE)" }
$Exe = "$Repo\dist\Facemend\Facemend.exe"

# Smoke test: a windowed exe does not block the console, so wait for it and read its exit code.
$Shared = if ($env:FACEMEND_SHARED) { $env:FACEMEND_SHARED } else { "$Repo\..\shared" }
$Photo = "$Shared\testdata\photos\family_three_print.png"
$Weights = "$Shared\testdata\weights\retinaface_mobilenet0.25.pth"
if ((Test-Path $Photo) -and (Test-Path $Weights)) {
    $Scratch = Join-Path ([IO.Path]::GetTempPath()) ("facemend-smoke-" + [Guid]::NewGuid())
    New-Item -ItemType Directory "$Scratch\models" | Out-Null
    Copy-Item $Weights "$Scratch\models\detection_mobilenet0.25_Final.pth"
    $env:FACEMEND_MODELS = "$Scratch\models"
    $env:QT_QPA_PLATFORM = "offscreen"
    $Run = Start-Process -FilePath $Exe -ArgumentList @("--smoke-test", "--screenshot", "`"$Scratch\shot.png`"", "`"$Photo`"") -Wait -PassThru
    Remove-Item Env:FACEMEND_MODELS, Env:QT_QPA_PLATFORM
    if ($Run.ExitCode -ne 0 -or -not (Test-Path "$Scratch\shot.png")) {
        throw "smoke test of $Exe failed (exit code $($Run.ExitCode))"
    }
    Copy-Item "$Scratch\shot.png" "$Repo\build\smoke-shot.png"
    Remove-Item -Recurse -Force $Scratch
    Write-Host "smoke test passed; screenshot in build\smoke-shot.png"
} else {
    Write-Warning "no test data at $Shared\testdata: smoke test skipped"
}

if ($SkipInstaller) { exit 0 }
$Version = (& $Python -c "import restore_core; print(restore_core.__version__)").Trim()
$Iscc = if ($env:ISCC) { $env:ISCC } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
$Defines = @("/DAppVersion=$Version")
if ($LargeBuild) { $Defines += "/DLargeBuild" }
& $Iscc @Defines "packaging\windows\facemend.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed ($LASTEXITCODE)" }
Write-Host "built dist\Facemend-$Version-Setup.exe"
