"""Data tables (TOML): rule presets, model limits and prices. Each table carries its sources and dates."""
