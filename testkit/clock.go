package testkit

import (
	"fmt"
	"os"
	"time"

	"portier/i18n"
)

// ClockEnv names an instant (RFC 3339) at which test clocks start instead of now.
const ClockEnv = "PORTIER_TEST_NOW"

// Now is where a test's injected clock starts: the current instant in the people's time zone (new
// accounts' default, i18n.DefaultTimeZone), so that a date a test derives from it ("in 10 days") is the
// calendar day the application counts from; in UTC it would be a day behind between midnight in Berlin
// and midnight in UTC.
//
// CI runs the tests at whatever time it is. To run them as at an awkward one, set PORTIER_TEST_NOW:
//
//	PORTIER_TEST_NOW=2026-10-25T00:30:00+02:00 go test ./handlers ./docsapp   # the night the clocks go back
//
// A test that depends on a particular instant sets its clock to it itself; this is for finding the tests
// that depend on one without saying so.
func Now() time.Time {
	loc, err := time.LoadLocation(i18n.DefaultTimeZone)
	if err != nil {
		panic(err)
	}
	if v := os.Getenv(ClockEnv); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			panic(fmt.Sprintf("testkit: %s=%q: %v", ClockEnv, v, err))
		}
		return t.In(loc)
	}
	return time.Now().In(loc)
}
