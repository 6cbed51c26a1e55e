package main

// Continuous replication: Litestream, embedded as a library, ships the write-ahead log to every configured
// target about once a second, and restores from a target into an empty data folder.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/litestream"
	lsfile "github.com/benbjohnson/litestream/file"
	lss3 "github.com/benbjohnson/litestream/s3"
	lssftp "github.com/benbjohnson/litestream/sftp"
	"github.com/superfly/ltx"

	"portier/db"
	"portier/handlers"
)

// newReplicaClient builds the Litestream client for one target from the URL and the settings beside it.
func newReplicaClient(cfg *config, t replicaTarget) (litestream.ReplicaClient, error) {
	switch t.Scheme() {
	case "file":
		// Litestream creates a missing folder. Under a mount point whose storage is not mounted, that is a
		// replica on this machine's own disk that looks empty (a new VM would start a new database) and
		// then current (/readyz stays green): the folder must be there already.
		if st, err := os.Stat(t.URL.Path); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("replica %s: the folder does not exist: mount the storage it is on, or create it for a new replica (mkdir -m 0700 %s)", t, t.URL.Path)
		}
		return lsfile.NewReplicaClient(t.URL.Path), nil
	case "sftp":
		c := lssftp.NewReplicaClient()
		c.Host = t.URL.Host
		c.User = t.URL.User.Username()
		c.Path = t.URL.Path
		c.KeyPath = cfg.SFTPKeyFile
		c.HostKey = cfg.SFTPHostKey
		// Litestream waits 30 s by default; a target that does not answer in 10 s counts as unreachable.
		c.DialTimeout = 10 * time.Second
		return c, nil
	case "s3":
		c := lss3.NewReplicaClient()
		c.Bucket = t.URL.Host
		c.Path = strings.Trim(t.URL.Path, "/")
		c.Region = cfg.S3.Region
		c.AccessKeyID, c.SecretAccessKey = cfg.S3.AccessKeyID, cfg.S3.SecretAccessKey
		if cfg.S3.Endpoint != "" {
			c.Endpoint = cfg.S3.Endpoint
			// S3-compatible stores (MinIO, Hetzner, Wasabi ...) address buckets by path, not by host name.
			c.ForcePathStyle = true
			if c.Region == "" {
				c.Region = lss3.DefaultRegion
			}
		}
		return c, nil
	}
	return nil, fmt.Errorf("replica %s: unsupported scheme", t)
}

// metaPath is the folder in the data folder where Litestream keeps its local state for one target: one
// per target, named after it, so that a reordered list keeps each target's state.
func metaPath(cfg *config, t replicaTarget) string {
	sum := sha256.Sum256([]byte(t.String()))
	return filepath.Join(cfg.DataDir, ".portier.db-litestream-"+hex.EncodeToString(sum[:4]))
}

// replication runs one Litestream database per target. Litestream 0.5 replicates a database to one
// target; several Litestream databases on the same file each ship to their own.
type replication struct {
	runs   []*replicaRun
	lagMax time.Duration
	log    *slog.Logger
}

type replicaRun struct {
	n      int // 1-based position in PORTIER_REPLICA_URL: what /readyz shows instead of the URL
	target replicaTarget
	ldb    *litestream.DB
	store  *litestream.Store
	client *watchedClient
	remote atomic.Uint64 // newest TXID known to be at the target
}

// remoteTXID is the newest transaction known to be at the target. Litestream forgets its position after
// a failed upload until it asks the target again; the last known one is still true meanwhile.
func (run *replicaRun) remoteTXID() ltx.TXID {
	if p := run.ldb.Replica.Pos().TXID; p != 0 {
		run.remote.Store(uint64(p))
		return p
	}
	return ltx.TXID(run.remote.Load())
}

// startReplication starts shipping the database at cfg.DBPath() to every target. The database must exist
// (the application opened and migrated it). A target that is unreachable does not stop the start: it is
// logged, retried, and shows in /readyz.
func startReplication(ctx context.Context, cfg *config, logger *slog.Logger) (*replication, error) {
	r := &replication{lagMax: cfg.ReplicaLagMax, log: logger}
	for i, t := range cfg.Replicas {
		raw, err := newReplicaClient(cfg, t)
		if err != nil {
			r.Close(context.Background())
			return nil, err
		}
		lg := logger.With("replica", i+1, "target", t.String())
		ldb := litestream.NewDB(cfg.DBPath())
		ldb.SetMetaPath(metaPath(cfg, t))
		// A change travels twice: the WAL into a local LTX file (every MonitorInterval), then that file to
		// the target (at most every SyncInterval). A quarter of the setting each keeps the sum, plus the
		// upload, within the interval the operator chose. Each local LTX file is one upload whatever the
		// SyncInterval, so the shorter one costs no requests.
		ldb.MonitorInterval = max(cfg.ReplicaSync/4, 25*time.Millisecond)
		if i > 0 {
			// Only the first target's Litestream checkpoints: two that take turns restarting the WAL make
			// each other ship full snapshots. The others only read the WAL (the emergency TRUNCATE at
			// ~500 MB stays with the first, too).
			ldb.CheckpointInterval = 0
			ldb.MinCheckpointPageN = 1 << 30
			ldb.TruncatePageN = 1 << 30
		}
		client := &watchedClient{ReplicaClient: raw, log: lg}
		rep := litestream.NewReplicaWithClient(ldb, client)
		rep.SyncInterval = max(cfg.ReplicaSync/4, 25*time.Millisecond)
		if fc, ok := raw.(*lsfile.ReplicaClient); ok {
			fc.Replica = rep // keeps the data folder's owner and mode on the replica's files
		}
		ldb.Replica = rep
		store := litestream.NewStore([]*litestream.DB{ldb}, litestream.DefaultCompactionLevels)
		store.SnapshotInterval = cfg.ReplicaSnapshot
		store.SnapshotRetention = cfg.ReplicaRetention
		// A graceful stop tries this long to ship the last changes (the unit allows 45 s: 20 for requests, then this).
		store.ShutdownSyncTimeout = 10 * time.Second
		store.Logger = lg
		ldb.SetLogger(lg)
		raw.SetLogger(lg)
		if err := store.Open(ctx); err != nil {
			r.Close(context.Background())
			return nil, fmt.Errorf("replica %s: %w", t, err)
		}
		r.runs = append(r.runs, &replicaRun{n: i + 1, target: t, ldb: ldb, store: store, client: client})
		lg.Info("replicating", "sync_interval", cfg.ReplicaSync, "snapshot_interval", cfg.ReplicaSnapshot, "retention", cfg.ReplicaRetention)
	}
	return r, nil
}

// Close ships what it can within the stores' shutdown timeout and stops. Call it after the application's
// own connections are closed (Litestream's library rule).
func (r *replication) Close(ctx context.Context) error {
	if r == nil {
		return nil
	}
	var errs []error
	for _, run := range r.runs {
		errs = append(errs, run.store.Close(ctx))
	}
	return errors.Join(errs...)
}

// States reports each target's lag for /readyz.
func (r *replication) States() []handlers.ReplicaState {
	if r == nil {
		return nil
	}
	now := time.Now()
	out := make([]handlers.ReplicaState, 0, len(r.runs))
	for _, run := range r.runs {
		pending, err := pendingSince(run.ldb.MetaPath(), run.remoteTXID())
		st := judgeLag(run.n, run.target.Scheme(), pending, run.client.downSince(), now, r.lagMax)
		if err != nil {
			st.OK, st.Problem = false, "local replication state unreadable"
		}
		out = append(out, st)
	}
	return out
}

// judgeLag is the one rule for /readyz and doctor: a target is behind by the age of the oldest change it
// does not have, and fails when that, or the time it has been unreachable, passes max.
func judgeLag(n int, scheme string, pending, down, now time.Time, max time.Duration) handlers.ReplicaState {
	st := handlers.ReplicaState{N: n, Scheme: scheme, OK: true}
	if !pending.IsZero() {
		st.Lag = max0(now.Sub(pending))
	}
	if !down.IsZero() {
		st.Down = max0(now.Sub(down))
	}
	switch {
	case st.Down > max:
		st.OK, st.Problem = false, fmt.Sprintf("unreachable for %s", st.Down.Round(time.Second))
	case st.Lag > max:
		st.OK, st.Problem = false, fmt.Sprintf("missing changes of the last %s", st.Lag.Round(time.Second))
	}
	return st
}

func max0(d time.Duration) time.Duration { return max(d, 0) }

// pendingSince returns when the oldest change that a target (at TXID remote) does not have was captured
// locally: the time of the oldest local level-0 LTX file past remote. Zero when the target has everything.
func pendingSince(meta string, remote ltx.TXID) (time.Time, error) {
	entries, err := os.ReadDir(filepath.Join(meta, "ltx", "0"))
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	var oldest time.Time
	for _, e := range entries {
		_, maxTX, err := ltx.ParseFilename(e.Name())
		if err != nil || maxTX <= remote {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // uploaded and deleted meanwhile
		}
		if oldest.IsZero() || fi.ModTime().Before(oldest) {
			oldest = fi.ModTime()
		}
	}
	return oldest, nil
}

// remoteTXID asks a target for the newest transaction it holds (every level).
func remoteTXID(ctx context.Context, c litestream.ReplicaClient) (ltx.TXID, error) {
	var newest ltx.TXID
	for level := 0; level <= litestream.SnapshotLevel; level++ {
		itr, err := c.LTXFiles(ctx, level, 0, false)
		if err != nil {
			return 0, err
		}
		for itr.Next() {
			newest = max(newest, itr.Item().MaxTXID)
		}
		if err := itr.Close(); err != nil {
			return 0, err
		}
	}
	return newest, nil
}

// watchedClient notes when a target stops answering and when it answers again, and logs each change once
// (Litestream itself repeats its error at most every few seconds, without saying when it recovered).
type watchedClient struct {
	litestream.ReplicaClient
	log *slog.Logger

	mu    sync.Mutex
	down  time.Time // zero while reachable
	first error
}

func (c *watchedClient) note(ctx context.Context, err error) {
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrNotExist) || errors.Is(err, context.Canceled)) {
		return // shutting down, or a file that is not there: an answer, not an outage
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil && c.down.IsZero():
		c.down, c.first = time.Now(), err
		c.log.Error("replica target unreachable: changes wait on this machine until it answers", "err", err)
	case err == nil && !c.down.IsZero():
		c.log.Info("replica target reachable again", "was_down", time.Since(c.down).Round(time.Millisecond))
		c.down, c.first = time.Time{}, nil
	}
}

func (c *watchedClient) downSince() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down
}

// Init never fails the start: an unreachable target is noted and the clients retry on every call. A
// successful Init proves little (the S3 client does not connect), so it does not count as an answer.
func (c *watchedClient) Init(ctx context.Context) error {
	if err := c.ReplicaClient.Init(ctx); err != nil {
		c.note(ctx, err)
	}
	return nil
}

func (c *watchedClient) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	itr, err := c.ReplicaClient.LTXFiles(ctx, level, seek, useMetadata)
	if err != nil {
		c.note(ctx, err)
		return nil, err
	}
	return &watchedIter{FileIterator: itr, c: c, ctx: ctx}, nil
}

// watchedIter notes the outcome of a listing: object stores list lazily, so a failure shows only while
// iterating (in Err) or when closing. A listing counts as an answer only when it ran to its end (an
// iterator closed unread proves nothing).
type watchedIter struct {
	ltx.FileIterator
	c            *watchedClient
	ctx          context.Context
	failed, done bool
}

func (it *watchedIter) Next() bool {
	ok := it.FileIterator.Next()
	if !ok && !it.failed && !it.done {
		if err := it.FileIterator.Err(); err != nil {
			it.failed = true
			it.c.note(it.ctx, err)
		} else {
			it.done = true
		}
	}
	return ok
}

func (it *watchedIter) Close() error {
	err := it.FileIterator.Close()
	switch {
	case err != nil && !it.failed:
		it.failed = true
		it.c.note(it.ctx, err)
	case err == nil && it.done:
		it.c.note(it.ctx, nil)
	}
	return err
}

func (c *watchedClient) OpenLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	rc, err := c.ReplicaClient.OpenLTXFile(ctx, level, minTXID, maxTXID, offset, size)
	c.note(ctx, err)
	return rc, err
}

func (c *watchedClient) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	info, err := c.ReplicaClient.WriteLTXFile(ctx, level, minTXID, maxTXID, r)
	c.note(ctx, err)
	return info, err
}

func (c *watchedClient) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	err := c.ReplicaClient.DeleteLTXFiles(ctx, a)
	if err != nil || len(a) > 0 { // deleting nothing asks nobody
		c.note(ctx, err)
	}
	return err
}

// ErrNoReplica means no target holds a database yet: a first start, not a failure.
var ErrNoReplica = errors.New("no target holds a replica yet")

// restoreFromReplica restores the newest state (or the state at at, if not zero) into dbPath from the
// target with the newest data among targets (one that was down a while may be behind). It fails when a
// target cannot be asked: it may hold the newest data, or be the only one that holds any.
// beforeRestore, if not nil, runs once a target with data is found and may still refuse the restore.
func restoreFromReplica(ctx context.Context, cfg *config, targets []replicaTarget, at time.Time, logger *slog.Logger, beforeRestore func() error) (from replicaTarget, version int, err error) {
	type candidate struct {
		t      replicaTarget
		client litestream.ReplicaClient
		txid   ltx.TXID
	}
	var best *candidate
	var failed []string
	for _, t := range targets {
		c, err := newReplicaClient(cfg, t)
		if err != nil {
			return t, 0, err
		}
		c.SetLogger(logger)
		var txid ltx.TXID
		if err = c.Init(ctx); err == nil {
			var plan []*ltx.FileInfo
			plan, err = litestream.CalcRestorePlan(ctx, c, 0, at, logger)
			if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
				logger.Info("replica target holds no database (for that time)", "target", t.String())
				continue
			}
			if err == nil {
				txid = plan[len(plan)-1].MaxTXID
			}
		}
		if err != nil {
			logger.Error("replica target cannot be read", "target", t.String(), "err", err)
			failed = append(failed, fmt.Sprintf("%s: %v", t, err))
			continue
		}
		if best == nil || txid > best.txid {
			best = &candidate{t: t, client: c, txid: txid}
		}
	}
	if best == nil {
		if len(failed) > 0 {
			return replicaTarget{}, 0, fmt.Errorf("no target could be read: %s", strings.Join(failed, "; "))
		}
		return replicaTarget{}, 0, ErrNoReplica
	}
	if len(failed) > 0 {
		// A target that does not answer may hold newer changes than best: restoring best would lose them,
		// and replicating the result would put it over them as that target's newest state.
		return best.t, 0, fmt.Errorf("%s holds a database, but another target cannot be read and may hold newer changes "+
			"(restore from one target by hand with `portier restore --from URL`, or drop the unreadable one from the setting): %s",
			best.t, strings.Join(failed, "; "))
	}
	if beforeRestore != nil {
		if err := beforeRestore(); err != nil {
			return best.t, 0, err
		}
	}
	version, err = db.RestoreWith(ctx, cfg.DBPath(), func(tmp string) error {
		rep := litestream.NewReplicaWithClient(nil, best.client)
		opt := litestream.NewRestoreOptions()
		opt.OutputPath = tmp
		opt.Timestamp = at
		return rep.Restore(ctx, opt)
	})
	if err != nil {
		return best.t, 0, err
	}
	dropLitestreamState(cfg)
	return best.t, version, nil
}

// dropLitestreamState removes Litestream's local state from the data folder. Call it only when the
// database it describes is gone or replaced: a new database with the old state would look to Litestream
// like the old one gone back in time.
func dropLitestreamState(cfg *config) {
	stale, _ := filepath.Glob(filepath.Join(cfg.DataDir, ".portier.db-litestream*"))
	for _, p := range stale {
		os.RemoveAll(p)
	}
}

// replicaStates is what /readyz asks; nil when nothing is replicated.
func (a *app) replicaStates() func() []handlers.ReplicaState {
	if a.repl == nil {
		return nil
	}
	return a.repl.States
}

// restoreIfMissing runs before the first open when the data folder has no database and replica targets
// are set. With PORTIER_RESTORE_IF_MISSING it restores from them: a new VM with the same settings (and
// the key) comes up with the data of the lost one. Without it, a database at a target refuses the start.
// Either way a target that cannot be asked refuses it: a new database would be shipped to the target as
// its newest state (Litestream takes a database behind its replica for one restored to an earlier
// point), so the next restore would bring back an empty portal.
func restoreIfMissing(ctx context.Context, cfg *config, logger *slog.Logger) error {
	if len(cfg.Replicas) == 0 || fileExists(cfg.DBPath()) {
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data folder %s: %w", cfg.DataDir, err)
	}
	errHolds := errors.New("replica holds a database")
	// Restoring without the key would give a portal whose every secret is unreadable. Without a replica to
	// restore (the very first start) the key is made as always.
	beforeRestore := func() error {
		if !cfg.RestoreIfMissing {
			return errHolds
		}
		if !fileExists(cfg.KeyPath()) {
			return fmt.Errorf("the data folder has no database and the replica has one, but there is no key to open it (%s): "+
				"supply the key with PORTIER_SECRET_KEY_FILE (or put secret.key into the data folder) first", cfg.KeyPath())
		}
		return nil
	}
	start := time.Now()
	from, version, err := restoreFromReplica(ctx, cfg, cfg.Replicas, time.Time{}, logger, beforeRestore)
	switch {
	case errors.Is(err, ErrNoReplica):
		logger.Info("no target holds a database yet; starting with a new one")
		return nil
	case errors.Is(err, errHolds):
		return fmt.Errorf("the data folder %s has no database, but the replica target %s holds one: a new database would replace it there as the newest state. "+
			"Set PORTIER_RESTORE_IF_MISSING=true (with the key) to restore it, or run `portier restore --from URL`, or name an empty target; nothing was started", cfg.DataDir, from)
	case err != nil && !cfg.RestoreIfMissing:
		return fmt.Errorf("the data folder %s has no database and the replica cannot be asked whether it holds one (a new database would replace it there): %w; "+
			"nothing was started: start again when the target answers", cfg.DataDir, err)
	case err != nil:
		return fmt.Errorf("PORTIER_RESTORE_IF_MISSING: restore from the replica failed, nothing was started: %w", err)
	}
	logger.Info("database restored from the replica", "target", from.String(), "schema_version", version,
		"dur_ms", time.Since(start).Milliseconds())
	return nil
}
