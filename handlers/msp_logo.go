package handlers

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/avatar"
	"portier/db"
)

// The MSP's logo is stored re-encoded (avatar.Processor.Logo: nothing of the upload but its pixels) as a
// setting, and served under a name made of its hash, so browsers keep it for a year and a new logo is a
// new address.

// mspLogo serves the logo to anyone (it is on the sign-in page too).
func (s *Server) mspLogo(c *echo.Context) error {
	ctx := c.Request().Context()
	name, err := s.db.Setting(ctx, db.SettingLogoName, "")
	if err != nil {
		return err
	}
	if name == "" || c.Param("name") != name {
		return echo.ErrNotFound
	}
	b64, err := s.db.Setting(ctx, db.SettingLogo, "")
	if err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "image/png", png)
}

// readLogo takes the optional "logo" file of a multipart form and makes it a logo. It returns nil without
// a file, or the translation key (and arguments) of the problem.
func (s *Server) readLogo(c *echo.Context) ([]byte, string, []any, error) {
	file, fh, err := c.Request().FormFile("logo")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, "", nil, nil
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", nil, err
		}
		return nil, "profile.avatar.error.format", nil, nil
	}
	defer file.Close()
	if fh.Size == 0 { // the browser sends an empty part when no file was chosen
		return nil, "", nil, nil
	}
	if fh.Size > avatar.MaxBytes {
		return nil, "profile.avatar.error.too_large", []any{"mb", avatar.MaxBytes >> 20}, nil
	}
	data, err := io.ReadAll(io.LimitReader(file, avatar.MaxBytes+1))
	if err != nil {
		return nil, "", nil, err
	}
	if len(data) > avatar.MaxBytes {
		return nil, "profile.avatar.error.too_large", []any{"mb", avatar.MaxBytes >> 20}, nil
	}
	logo, err := s.avatars.Logo(c.Request().Context(), data)
	switch {
	case errors.Is(err, avatar.ErrFormat):
		return nil, "profile.avatar.error.format", nil, nil
	case errors.Is(err, avatar.ErrTooBig):
		return nil, "profile.avatar.error.dimensions", nil, nil
	case errors.Is(err, avatar.ErrBusy):
		return nil, "profile.avatar.error.busy", nil, nil
	case err != nil:
		return nil, "", nil, err
	}
	return logo, "", nil, nil
}
