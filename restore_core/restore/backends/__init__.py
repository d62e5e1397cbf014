"""Where face models run: torch itself (``torch_backend``), in the precision ``precision`` picks."""
