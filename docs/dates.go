package docs

import (
	"regexp"
	"time"
)

// germanDate is how German users (and their spreadsheets) write a date: 31.03.2027, also 1.4.2027.
var germanDate = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})$`)

// parseDate reads a date as YYYY-MM-DD (what the date input and our export send) or DD.MM.YYYY, and
// returns it as YYYY-MM-DD, the one stored form. A day that does not exist (31.02.) is refused.
func parseDate(v string) (string, bool) {
	if m := germanDate.FindStringSubmatch(v); m != nil {
		if len(m[1]) == 1 {
			m[1] = "0" + m[1]
		}
		if len(m[2]) == 1 {
			m[2] = "0" + m[2]
		}
		v = m[3] + "-" + m[2] + "-" + m[1]
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil || d.Format("2006-01-02") != v {
		return "", false
	}
	return v, true
}
