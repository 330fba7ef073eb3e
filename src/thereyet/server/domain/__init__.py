"""Pure rules of the hub: dataclasses and functions that take time as an argument.

Nothing here imports the store, the services or the web layer.
"""
