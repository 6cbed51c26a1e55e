package db

import (
	"sync"
	"sync/atomic"
)

// Generations let in-memory caches (docsapp/fragments.go, the terms below) tell whether what they hold is
// still current without asking the database. A write bumps the generation after it committed; a cache
// reads the generation before it loads and keeps the entry tagged with it, so an entry loaded while a
// write was under way is already outdated when it is stored. Every write that changes what a page of an
// item shows goes through DocCreate, DocCreateMany, DocUpdate, DocSetDeleted, the bulk writes, linkTx
// (links between items, one or many at once, and between items and documents), AttachmentFinish,
// FileSetThumb, FileSetStaffOnly, FileDelete, ArticleUpdate, ArticleDelete and ArticleRestore
// (TestEveryWriteAnItemPageShowsBumpsItsGeneration); every terms version through PublishTerms.
type gens struct {
	docs  sync.Map // org id → *atomic.Uint64
	terms atomic.Uint64
}

func (g *gens) docsOf(orgID int64) *atomic.Uint64 {
	if v, ok := g.docs.Load(orgID); ok {
		return v.(*atomic.Uint64)
	}
	v, _ := g.docs.LoadOrStore(orgID, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// DocsGen is the generation of an organisation's documentation: it changes with every write to it.
func (d *DB) DocsGen(orgID int64) uint64 { return d.gens.docsOf(orgID).Load() }

func (d *DB) bumpDocs(orgID int64) { d.gens.docsOf(orgID).Add(1) }

// termsCache holds the current terms with the generation they were loaded at.
type termsCache struct {
	gen uint64
	t   Terms
}
