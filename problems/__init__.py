"""geograd's catalogue of geometric problems (imported as ``geograd.problems``)."""
