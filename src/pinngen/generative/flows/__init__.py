"""Normalizing flows: vector flows (FlowJAX) and the multi-scale image flow."""
