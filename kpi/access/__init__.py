"""Who may see what: roles and sign-in configuration, small-count suppression for figures leaving the analysts, the
audit log of views and downloads, and the analysts' read-only SQL sandbox."""
