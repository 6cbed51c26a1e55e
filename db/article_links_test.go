package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
)

// A document's file is stored like an item's (sealed chunks, read back identical), in tables of its own:
// its chunks do not open as an item file's chunks of the same id, and a document of another organisation
// takes no file through this organisation's scope.
func TestArticleFilesRoundTripAndKeptApart(t *testing.T) {
	d, s, sc, item := attachFixture(t)
	ctx := context.Background()
	other, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	art, err := d.ArticleCreate(ctx, sc.OrgID, ArticleChange{Title: "Notfallplan"}, DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := d.ArticleCreate(ctx, other.ID, ArticleChange{Title: "Beta"}, DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func([]byte) (string, error) { return "text/plain; charset=utf-8", nil }
	content := make([]byte, 2*AttachmentChunk+5)
	rand.Read(content)
	a, err := d.AttachmentCreate(ctx, s, sc, AttachmentUpload{ItemID: art, OnArticle: true, Name: "f.txt", Max: 1 << 30, Check: check},
		bytes.NewReader(content), DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.FileGet(ctx, sc, OnArticle(art), a.ID)
	if err != nil || !got.OnArticle {
		t.Fatalf("get: %+v %v", got, err)
	}
	var out bytes.Buffer
	if err := d.AttachmentWrite(ctx, s, got, &out); err != nil || !bytes.Equal(out.Bytes(), content) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(out.Bytes(), content))
	}
	if _, err := d.FileGet(ctx, sc, OnItem(art), a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the document's file found as an item's: %v", err)
	}
	// The same chunks under an item file with the same id do not open.
	it := upload(t, d, s, sc, item, []byte("x"))
	if _, err := d.W.Exec(`DELETE FROM doc_attachment_chunks WHERE attachment_id = ?`, it.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`INSERT INTO doc_attachment_chunks(attachment_id, n, sealed) SELECT ?, n, sealed FROM article_attachment_chunks WHERE attachment_id = ?`,
		it.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if a.ID != it.ID {
		t.Fatalf("the first file of each kind should share id 1: %d, %d", a.ID, it.ID)
	}
	it.Size = a.Size
	if err := d.AttachmentWrite(ctx, s, it, &bytes.Buffer{}); !errors.Is(err, ErrSealBroken) {
		t.Errorf("moved chunks opened: %v", err)
	}
	if _, err := d.AttachmentCreate(ctx, s, sc, AttachmentUpload{ItemID: foreign, OnArticle: true, Name: "f.txt", Max: 1 << 30, Check: check},
		bytes.NewReader(content), DocActor{Name: "T"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("file on another organisation's document: %v", err)
	}
	if err := d.ArticleLinkAdd(ctx, DocScope{OrgID: other.ID, StaffView: true}, foreign, item, "", DocActor{Name: "T"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("link across organisations: %v", err)
	}
}
