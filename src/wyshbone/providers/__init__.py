"""One module per outside service (local directory, Overpass, Google Places, Hunter, websites, SMTP).

Only the tool layer imports these; each translates its service's errors into ``wyshbone.errors`` once.
"""
