"""Households (foster, kin, intensive foster, biological) and the caregivers who make them up."""
