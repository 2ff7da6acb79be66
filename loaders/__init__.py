"""Documents in, rdflib graphs with evidence out: the authoring side of Swapgraph."""
