package handlers

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v5"

	"portier/avatar"
	"portier/db"
)

// The profile picture: uploaded, re-encoded by the avatar package (never the original bytes), removed, served.

// avatarUpload takes a PNG, JPEG or GIF of at most 2 MB and stores it re-encoded as a 128×128 PNG (package
// avatar): only pixels survive, no metadata and no bytes of the upload itself. A picture that would take
// too much memory is refused from its header; when too many are being decoded the answer is 503.
func (s *Server) avatarUpload(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	r := c.Request()
	fail := func(status int, key string, args ...any) error {
		v, err := s.profileView(c, u)
		if err != nil {
			return err
		}
		v.Avatar.ErrorKey, v.Avatar.ErrorArgs = key, args
		return s.renderProfile(c, status, v)
	}
	// Keep the whole upload in memory (the body limit bounds it): a person's photo has no business in a
	// temporary file.
	if err := r.ParseMultipartForm(maxUploadBody + 1<<20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	defer r.MultipartForm.RemoveAll()
	file, fh, err := r.FormFile("avatar")
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	defer file.Close()
	if fh.Size > avatar.MaxBytes {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.too_large", "mb", avatar.MaxBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(file, avatar.MaxBytes+1))
	if err != nil {
		return err
	}
	if len(data) > avatar.MaxBytes {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.too_large", "mb", avatar.MaxBytes>>20)
	}
	if len(data) == 0 {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	pic, err := s.avatars.Process(ctx, data)
	switch {
	case errors.Is(err, avatar.ErrFormat):
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.format")
	case errors.Is(err, avatar.ErrTooBig):
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.dimensions")
	case errors.Is(err, avatar.ErrBusy):
		c.Response().Header().Set("Retry-After", "5")
		return fail(http.StatusServiceUnavailable, "profile.avatar.error.busy")
	case err != nil:
		return err
	}
	if err := s.db.SetAvatar(ctx, u.ID, pic); err != nil {
		return err
	}
	s.audit(c, 0, "avatar.set", "")
	return s.profileDone(c, "profile.avatar.saved")
}

func (s *Server) avatarRemove(c *echo.Context) error {
	u := currentUser(c)
	if err := s.db.SetAvatar(c.Request().Context(), u.ID, nil); err != nil {
		return err
	}
	s.audit(c, 0, "avatar.remove", "")
	return s.profileDone(c, "profile.avatar.removed")
}

// avatarImage serves a person's picture to themselves, to MSP staff and to people who share an
// organisation with them. Everyone else gets 404, the same as for a person without a picture.
func (s *Server) avatarImage(c *echo.Context) error {
	ctx := c.Request().Context()
	viewer := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	if id != viewer.ID && !viewer.IsStaff() {
		shared, err := s.db.SharesOrg(ctx, viewer.ID, id)
		if err != nil {
			return err
		}
		if !shared {
			return echo.ErrNotFound
		}
	}
	pic, err := s.db.Avatar(ctx, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "image/png", pic)
}

// initials are shown when a person has no picture: the first letters of the first and last word of the
// name, or the first letter of the address.
func initials(u *db.User) string {
	words := strings.Fields(u.Name)
	first := func(s string) string {
		for _, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return strings.ToUpper(string(r))
			}
		}
		return ""
	}
	switch len(words) {
	case 0:
		return first(u.Email)
	case 1:
		return first(words[0])
	}
	return first(words[0]) + first(words[len(words)-1])
}
