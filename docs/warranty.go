package docs

import "time"

// WarrantySoonDays is how close a warranty end must be to count as "ending soon": enough time to order a
// renewal or a replacement.
const WarrantySoonDays = 45

// Warranty states of a configuration's warranty end.
const (
	WarrantyOver  = "over"  // ended before today
	WarrantySoon  = "soon"  // ends today or within WarrantySoonDays
	WarrantyValid = "valid" // ends later
)

// warrantyBounds are today and the first day after "soon", as stored dates in the viewer's time zone.
func warrantyBounds(now time.Time, loc *time.Location) (today, later string) {
	t := now.In(loc)
	return t.Format("2006-01-02"), t.AddDate(0, 0, WarrantySoonDays).Format("2006-01-02")
}

// WarrantyState is the state of a stored warranty end (YYYY-MM-DD), "" for none. Lists, item pages and
// the filter all decide through here and WarrantyRange, so a date never shows one state and filters as
// another.
func WarrantyState(end string, now time.Time, loc *time.Location) string {
	if end == "" {
		return ""
	}
	today, later := warrantyBounds(now, loc)
	switch {
	case end < today:
		return WarrantyOver
	case end < later:
		return WarrantySoon
	}
	return WarrantyValid
}

// WarrantyRange is the stored dates of a state: from (inclusive) and to (exclusive), "" for open.
func WarrantyRange(state string, now time.Time, loc *time.Location) (from, to string, ok bool) {
	today, later := warrantyBounds(now, loc)
	switch state {
	case WarrantyOver:
		return "", today, true
	case WarrantySoon:
		return today, later, true
	case WarrantyValid:
		return later, "", true
	}
	return "", "", false
}
