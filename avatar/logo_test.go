package avatar

import "testing"

// A logo keeps its proportions inside the box and is never enlarged.
func TestLogoSizeKeepsProportions(t *testing.T) {
	for _, c := range []struct{ w, h, ww, wh int }{
		{800, 200, 320, 80}, {100, 400, 24, 96}, {200, 50, 200, 50}, {320, 96, 320, 96}, {3200, 96, 320, 9}, {10000, 1, 320, 1},
	} {
		if w, h := logoSize(c.w, c.h); w != c.ww || h != c.wh {
			t.Errorf("logoSize(%d, %d) = %d, %d; want %d, %d", c.w, c.h, w, h, c.ww, c.wh)
		}
	}
}
