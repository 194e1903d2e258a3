"""The built-in govhall plugins, registered through the ``govhall`` entry-point group."""
