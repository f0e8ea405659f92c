"""Channel edges: one blueprint per gateway, all running the same conversation."""
