package docs

// CSVSafe neutralises a CSV cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR): every
// CSV the portal writes passes its cells through here.
func CSVSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
