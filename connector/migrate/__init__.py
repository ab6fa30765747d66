"""Migrations: other tools' exports read through YAML mappings, and copies between projects.

An optional part beside the runtime: it uses the runtime's public names, and everything it
knows of Mixpanel (where an event's time is, which actions a copy chains) is declared in
specs/migrate.yaml and specs/mappings/.
"""
