"""Configuration as code: the hub's configuration as TOML files, planned, applied, exported.

`model` is the format (and its JSON Schema); `load` reads a directory into the
desired state; `current` reads the hub into the same form; `plan` compares
them; `checks` makes the reference and policy checks; `writes` changes the
hub; `render` writes files back; `service` is what the CLI and API call.
"""
