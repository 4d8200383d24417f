"""One thin module per AWS service: wire names in, domain calls, wire names out."""
