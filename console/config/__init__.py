"""The configuration layer: TOML loading with drop-ins (`loader`), the typed model every
other layer reads (`model`), the schema that turns TOML into it with one-line errors
(`schema`), plugin options, key bindings as data, and durations. It imports nothing above it."""
