"""Pages of the reports app: public (mobile-first) and staff."""
