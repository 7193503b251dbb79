"""Classification without training: a signature catalogue kept as YAML, and its scorer."""
