"""One file per schema version, applied in order; never edit one that has shipped."""
