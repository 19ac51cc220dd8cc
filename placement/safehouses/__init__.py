"""Safe houses and their beds, and which beds are free now."""
