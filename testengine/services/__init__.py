"""What users want done, one function each; the CLI and the web app both call these."""
