"""Real upstream charts rendered by a real helm: where helm and the chart cache are, and `helm template` as data."""
