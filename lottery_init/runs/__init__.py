"""What a run folder holds: file names, files, TensorBoard, provenance, what old runs mean."""
