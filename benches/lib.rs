//! Empty: this package only holds the criterion benchmarks.
