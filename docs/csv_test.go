package docs

import "testing"

// A cell a spreadsheet would run as a formula is exported with a leading apostrophe; the import takes
// it off again.
func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+49 30": "'+49 30", "-1": "'-1", "@x": "'@x", "\tx": "'\tx",
		"": "", "Büro": "Büro", "a=b": "a=b"} {
		if got := CSVSafe(in); got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
