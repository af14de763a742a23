"""Release files: loading, typed models, validation and editorial checks. Pure: no output, no network."""
