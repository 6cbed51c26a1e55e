package docs

// CSVComma is the separator of the CSV files we write for a person: German spreadsheet programs (Excel
// with German regional settings) split a line at semicolons and show a comma-separated file as one
// column; English ones expect commas. choice ("semicolon" or "comma") overrides the language. Every file
// starts with a UTF-8 byte order mark, without which Excel reads umlauts wrong. Imports accept both.
func CSVComma(lang, choice string) rune {
	switch choice {
	case "semicolon":
		return ';'
	case "comma":
		return ','
	}
	if lang == "de" {
		return ';'
	}
	return ','
}

// CSVBOM starts every CSV file we write.
const CSVBOM = "\ufeff"

// CSVSafe neutralises a CSV cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR): every
// CSV the portal writes passes its cells through here.
func CSVSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
