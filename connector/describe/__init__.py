"""The component described: the manifest, the Markdown reference, editor schemas."""
