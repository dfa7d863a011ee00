"""The report writers: the document model, the parity table, the plots, the atlas and the site."""
