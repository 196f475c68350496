package pickle

// Hooks for the external test package (pickle_test), which shares the golden corpus loader.

// GoldenEntry is one pickle of the golden corpus.
type GoldenEntry = goldenEntry

// LoadGolden reads every pickle under testdata/golden.
var LoadGolden = loadGolden
