"""The command line: the one module that wires loaders, graph and api together."""
