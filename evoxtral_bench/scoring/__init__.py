"""Everything that can change a number: parsing, normalization, statistics, metrics, bootstrap."""
