"""Route modules: thin adapters over ``wyshbone.services``."""
