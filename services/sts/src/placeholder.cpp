// replaced as the layer is written
