"""The built-in helpdesk adapters, registered through the ``govhall`` entry-point group."""
