"""What every stage shares: records, file formats, versioned output, audio I/O, errors."""
