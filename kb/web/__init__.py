"""The Datasette layer: the plugin's hooks (plugin) and the modules they call; the only
code that imports datasette."""
