"""Web capture: embeddable forms and first-party visit tracking (issue 9)."""
