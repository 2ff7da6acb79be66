"""HTTP only: the SPARQL protocol, canned questions, negotiation, errors and pages."""
