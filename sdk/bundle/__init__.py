"""Model bundles: find, unpack and verify a bundle, and read its typed manifest.

A bundle is what `astseg export` writes (docs/bundle-format.md): the graphs, their
checksums and `astseg.json`. Nothing here runs a graph; `sdk.backends` does.
"""
