package redisstore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cluster the tests share: three masters without replicas, started by
// the first test that asks for it and stopped by TestMain.
var (
	clusterOnce sync.Once
	cluster     *redisCluster
	clusterErr  error
)

// clusterClient returns a client of the shared Redis Cluster, closed when
// the test ends, with shortTimeouts on every node. It skips the test when
// redis-server or redis-cli is missing, except on CI (CI=true), where that
// is a failure.
func clusterClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	requireRedis(t)
	clusterOnce.Do(func() { cluster, clusterErr = startRedisCluster(3) })
	switch {
	case clusterErr == errNoRedisCLI && os.Getenv("CI") != "true":
		t.Skipf("skipping: %v (install the redis-tools package to run it)", clusterErr)
	case clusterErr != nil:
		t.Fatal(clusterErr)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:      cluster.addrs(),
		MaxRetries: -1,
		// Each node's connections, as those of a standalone server.
		NewClient: func(o *redis.Options) *redis.Client { return redis.NewClient(shortTimeouts(o)) },
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// stopCluster stops the shared cluster, if a test started it.
func stopCluster() {
	if cluster != nil {
		cluster.stop()
	}
}

var errNoRedisCLI = fmt.Errorf("redis-cli not found in PATH; it joins the nodes of a Redis Cluster")

// redisCluster is a Redis Cluster of masters on loopback ports, each
// keeping its cluster state in a directory of its own.
type redisCluster struct {
	dir   string
	nodes []*redisServer
}

// startRedisCluster starts n redis-server nodes in cluster mode, joins them
// into one cluster with redis-cli, every slot assigned, and waits until
// every node reports the cluster ok.
func startRedisCluster(n int) (_ *redisCluster, err error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errNoRedisCLI
	}
	dir, err := os.MkdirTemp("", "redisstore-cluster-")
	if err != nil {
		return nil, err
	}
	c := &redisCluster{dir: dir}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	for i := range n {
		nodeDir := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			return nil, err
		}
		bus, err := freePort()
		if err != nil {
			return nil, err
		}
		node, err := startRedisServer("--dir", nodeDir, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(bus))
		if err != nil {
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.nodes = append(c.nodes, node)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	for _, node := range c.nodes {
		if err := waitClusterOK(ctx, node.addr()); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// waitClusterOK waits until the node at addr reports cluster_state:ok.
func waitClusterOK(ctx context.Context, addr string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	for {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster node %s not ok: %v\n%s", addr, err, info)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *redisCluster) addrs() []string {
	var addrs []string
	for _, node := range c.nodes {
		addrs = append(addrs, node.addr())
	}
	return addrs
}

// stop kills every node and removes their state.
func (c *redisCluster) stop() {
	for _, node := range c.nodes {
		node.stop()
	}
	_ = os.RemoveAll(c.dir)
}

// TestClusterRouting: the cluster the tests start spreads keys over its
// three masters, and a multi-key command across slots fails there, so the
// tests on it meet what a standalone server would let pass.
func TestClusterRouting(t *testing.T) {
	t.Parallel()
	rdb := clusterClient(t)
	ctx := context.Background()
	var masters atomic.Int64 // ForEachMaster calls fn concurrently
	require.NoError(t, rdb.ForEachMaster(ctx, func(context.Context, *redis.Client) error {
		masters.Add(1)
		return nil
	}))
	assert.EqualValues(t, 3, masters.Load(), "masters")
	key := testKey(t)
	assert.ErrorContains(t, rdb.MSet(ctx, key+":a", "1", key+":b", "2").Err(), "CROSSSLOT")
	assert.NoError(t, rdb.MSet(ctx, "{"+key+"}:a", "1", "{"+key+"}:b", "2").Err(), "one slot with a hash tag")
}
