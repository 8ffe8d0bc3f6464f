#include <boost/test/unit_test.hpp>

#include <linux/mount.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "runtime/confine/mount_options.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

using Opts = std::vector<std::string>;

MountOptions fs(const Opts& o) { return parse_mount_options(o, false, "m.options"); }
MountOptions bind(const Opts& o) { return parse_mount_options(o, true, "m.options"); }

std::string options_failure(const Opts& o, bool bind_type) {
  return failure_of([&] { parse_mount_options(o, bind_type, "m.options"); });
}

constexpr uint64_t kAtime = MOUNT_ATTR__ATIME;

}  // namespace

BOOST_AUTO_TEST_CASE(no_options) {
  auto m = fs({});
  BOOST_TEST(!m.bind);
  BOOST_TEST(!m.recursive);
  BOOST_TEST(m.top.empty());
  BOOST_TEST(m.tree.empty());
  BOOST_TEST(m.data.empty());
  BOOST_TEST(m.sb_flags.empty());
  BOOST_TEST(!m.copy_up);
  BOOST_TEST(!m.idmap);
  BOOST_TEST(bind({}).bind);  // type "bind" alone makes a bind mount
  BOOST_TEST(!bind({}).recursive);
}

BOOST_AUTO_TEST_CASE(ro_rw_and_last_one_wins) {
  auto ro = fs({"ro"});
  BOOST_TEST(ro.top.set == MOUNT_ATTR_RDONLY);
  BOOST_TEST(ro.top.clr == 0u);
  BOOST_TEST(ro.tree.empty());
  auto rw = fs({"rw"});
  BOOST_TEST(rw.top.set == 0u);
  BOOST_TEST(rw.top.clr == MOUNT_ATTR_RDONLY);
  auto ro_rw = fs({"ro", "rw"});
  BOOST_TEST(ro_rw.top.set == 0u);
  BOOST_TEST(ro_rw.top.clr == MOUNT_ATTR_RDONLY);
  auto rw_ro = fs({"rw", "ro"});
  BOOST_TEST(rw_ro.top.set == MOUNT_ATTR_RDONLY);
  BOOST_TEST(rw_ro.top.clr == 0u);
}

BOOST_AUTO_TEST_CASE(flag_pairs) {
  struct Pair {
    const char* on;
    const char* off;
    uint64_t bit;
  };
  for (const Pair& p : {Pair{"nosuid", "suid", MOUNT_ATTR_NOSUID}, Pair{"nodev", "dev", MOUNT_ATTR_NODEV},
                        Pair{"noexec", "exec", MOUNT_ATTR_NOEXEC},
                        Pair{"nosymfollow", "symfollow", MOUNT_ATTR_NOSYMFOLLOW},
                        Pair{"nodiratime", "diratime", MOUNT_ATTR_NODIRATIME}}) {
    auto on = fs({p.on});
    BOOST_TEST(on.top.set == p.bit, p.on);
    BOOST_TEST(on.top.clr == 0u, p.on);
    BOOST_TEST(on.tree.empty(), p.on);
    auto off = fs({p.off});
    BOOST_TEST(off.top.set == 0u, p.off);
    BOOST_TEST(off.top.clr == p.bit, p.off);
    auto r_on = fs({std::string("r") + p.on});
    BOOST_TEST(r_on.tree.set == p.bit, p.on);
    BOOST_TEST(r_on.top.empty(), p.on);
    auto r_off = fs({std::string("r") + p.off});
    BOOST_TEST(r_off.tree.clr == p.bit, p.off);
    BOOST_TEST(r_off.tree.set == 0u, p.off);
    BOOST_TEST(r_off.top.empty(), p.off);
  }
}

BOOST_AUTO_TEST_CASE(combined_flags) {
  auto m = fs({"nosuid", "nodev", "noexec", "ro"});
  BOOST_TEST(m.top.set == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY));
  BOOST_TEST(m.top.clr == 0u);
  auto mixed = fs({"nosuid", "exec", "rro", "rnodev"});
  BOOST_TEST(mixed.top.set == MOUNT_ATTR_NOSUID);
  BOOST_TEST(mixed.top.clr == MOUNT_ATTR_NOEXEC);
  BOOST_TEST(mixed.tree.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV));
  BOOST_TEST(mixed.tree.clr == 0u);
}

BOOST_AUTO_TEST_CASE(atime_options) {
  auto noatime = fs({"noatime"});
  BOOST_TEST(noatime.top.set == MOUNT_ATTR_NOATIME);
  BOOST_TEST(noatime.top.clr == kAtime);
  auto strict = fs({"strictatime"});
  BOOST_TEST(strict.top.set == MOUNT_ATTR_STRICTATIME);
  BOOST_TEST(strict.top.clr == kAtime);
  auto rel = fs({"relatime"});
  BOOST_TEST(rel.top.set == MOUNT_ATTR_RELATIME);
  BOOST_TEST(rel.top.clr == kAtime);
  // A later atime option replaces an earlier one.
  auto later = fs({"noatime", "strictatime"});
  BOOST_TEST(later.top.set == MOUNT_ATTR_STRICTATIME);
  BOOST_TEST(later.top.clr == kAtime);
  auto back = fs({"strictatime", "relatime"});
  BOOST_TEST((back.top.set & kAtime) == MOUNT_ATTR_RELATIME);
  BOOST_TEST(back.top.clr == kAtime);
  // nodiratime is independent of the atime mode.
  auto both = fs({"noatime", "nodiratime"});
  BOOST_TEST(both.top.set == (MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME));
  BOOST_TEST(both.top.clr == kAtime);
  auto rnoatime = fs({"rnoatime"});
  BOOST_TEST(rnoatime.tree.set == MOUNT_ATTR_NOATIME);
  BOOST_TEST(rnoatime.tree.clr == kAtime);
  BOOST_TEST(rnoatime.top.empty());
  for (const char* o : {"atime", "norelatime", "nostrictatime"}) {
    auto m = fs({"noatime", o});
    BOOST_TEST(m.top.set == MOUNT_ATTR_RELATIME, o);
    BOOST_TEST(m.top.clr == kAtime, o);
  }
}

BOOST_AUTO_TEST_CASE(recursive_variants_go_to_tree) {
  auto m = fs({"rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rstrictatime", "rnodiratime"});
  BOOST_TEST(m.top.empty());
  BOOST_TEST(m.tree.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                            MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_NODIRATIME));
  BOOST_TEST(m.tree.clr == kAtime);
  auto off = fs({"rrw", "rsuid", "rdev", "rexec", "rsymfollow", "rdiratime"});
  BOOST_TEST(off.top.empty());
  BOOST_TEST(off.tree.set == 0u);
  BOOST_TEST(off.tree.clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                              MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
  auto rro_rrw = fs({"rro", "rrw"});
  BOOST_TEST(rro_rrw.tree.set == 0u);
  BOOST_TEST(rro_rrw.tree.clr == MOUNT_ATTR_RDONLY);
  // "ro" on the mount, "rrw" on the tree: both kept, separately.
  auto split = fs({"ro", "rrw"});
  BOOST_TEST(split.top.set == MOUNT_ATTR_RDONLY);
  BOOST_TEST(split.tree.clr == MOUNT_ATTR_RDONLY);
  BOOST_TEST(split.tree.set == 0u);
}

BOOST_AUTO_TEST_CASE(propagation_options) {
  struct Want {
    const char* name;
    bool tree;
    uint64_t flag;
  };
  for (const Want& w : {Want{"private", false, MS_PRIVATE}, Want{"rprivate", true, MS_PRIVATE},
                        Want{"shared", false, MS_SHARED}, Want{"rshared", true, MS_SHARED},
                        Want{"slave", false, MS_SLAVE}, Want{"rslave", true, MS_SLAVE},
                        Want{"unbindable", false, MS_UNBINDABLE}, Want{"runbindable", true, MS_UNBINDABLE}}) {
    auto m = bind({w.name});
    const MountAttrs& in = w.tree ? m.tree : m.top;
    const MountAttrs& other = w.tree ? m.top : m.tree;
    BOOST_TEST(in.propagation == w.flag, w.name);
    BOOST_TEST(in.set == 0u, w.name);
    BOOST_TEST(in.clr == 0u, w.name);
    BOOST_TEST(!in.empty(), w.name);
    BOOST_TEST(other.empty(), w.name);
    BOOST_TEST(m.data.empty(), w.name);
  }
  auto last = bind({"rshared", "rslave"});
  BOOST_TEST(last.tree.propagation == MS_SLAVE);
}

BOOST_AUTO_TEST_CASE(bind_and_rbind) {
  auto b = fs({"bind"});
  BOOST_TEST(b.bind);
  BOOST_TEST(!b.recursive);
  auto rb = fs({"rbind"});
  BOOST_TEST(rb.bind);
  BOOST_TEST(rb.recursive);
  auto both = fs({"rbind", "bind"});  // "bind" does not undo "rbind"
  BOOST_TEST(both.bind);
  BOOST_TEST(both.recursive);
  auto typed = bind({"rbind", "ro", "nosuid"});
  BOOST_TEST(typed.bind);
  BOOST_TEST(typed.recursive);
  BOOST_TEST(typed.top.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
}

BOOST_AUTO_TEST_CASE(data_parameters_in_order) {
  auto m = fs({"nosuid", "mode=755", "newinstance", "size=1m", "ro", "ptmxmode=0666", "uid=0", "a=b=c", "x="});
  BOOST_TEST_REQUIRE(m.data.size() == 7u);
  BOOST_TEST(m.data[0].key == "mode");
  BOOST_TEST(*m.data[0].value == "755");
  BOOST_TEST(m.data[1].key == "newinstance");
  BOOST_TEST(!m.data[1].value.has_value());
  BOOST_TEST(m.data[2].key == "size");
  BOOST_TEST(*m.data[2].value == "1m");
  BOOST_TEST(m.data[3].key == "ptmxmode");
  BOOST_TEST(*m.data[3].value == "0666");
  BOOST_TEST(m.data[4].key == "uid");
  BOOST_TEST(*m.data[4].value == "0");
  BOOST_TEST(m.data[5].key == "a");
  BOOST_TEST(*m.data[5].value == "b=c");
  BOOST_TEST(m.data[6].key == "x");
  BOOST_TEST_REQUIRE(m.data[6].value.has_value());
  BOOST_TEST(m.data[6].value->empty());
  BOOST_TEST(m.top.set == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_RDONLY));
  BOOST_TEST(!m.bind);
}

BOOST_AUTO_TEST_CASE(superblock_flags_and_defaults) {
  auto m = fs({"sync", "async", "dirsync", "mand", "nomand", "lazytime", "nolazytime", "silent", "loud",
               "defaults"});
  BOOST_TEST(m.sb_flags == (std::vector<std::string>{"sync", "dirsync", "mand", "lazytime", "silent"}));
  BOOST_TEST(m.data.empty());
  BOOST_TEST(m.top.empty());
  BOOST_TEST(m.tree.empty());
  // The defaults are accepted on a bind mount too.
  auto b = bind({"async", "defaults", "loud"});
  BOOST_TEST(b.sb_flags.empty());
  BOOST_TEST(b.data.empty());
  BOOST_TEST(options_failure({"rbind", "sync"}, false) ==
             "m.options: option \"sync\" changes the file system and is not supported on a bind mount");
  BOOST_TEST(options_failure({"lazytime"}, true) ==
             "m.options: option \"lazytime\" changes the file system and is not supported on a bind mount");
}

BOOST_AUTO_TEST_CASE(tmpcopyup_and_idmap) {
  auto t = fs({"tmpcopyup", "mode=755"});
  BOOST_TEST(t.copy_up);
  BOOST_TEST(t.data.size() == 1u);
  BOOST_TEST(options_failure({"tmpcopyup"}, true) == "m.options: option \"tmpcopyup\" applies to tmpfs mounts only");
  BOOST_TEST(options_failure({"bind", "tmpcopyup"}, false) ==
             "m.options: option \"tmpcopyup\" applies to tmpfs mounts only");
  BOOST_TEST(bind({"idmap"}).idmap);
  BOOST_TEST(bind({"ridmap"}).idmap);
  BOOST_TEST(!bind({"rbind"}).idmap);
  BOOST_TEST(bind({"idmap"}).data.empty());
}

BOOST_AUTO_TEST_CASE(unknown_option_on_a_bind_mount) {
  BOOST_TEST(options_failure({"rbind", "bogus"}, false) == "m.options: unknown mount option \"bogus\" for a bind mount");
  BOOST_TEST(options_failure({"mode=755"}, true) == "m.options: unknown mount option \"mode=755\" for a bind mount");
  BOOST_TEST(options_failure({"ro", "x=", "y"}, true) == "m.options: unknown mount option \"x=\" for a bind mount");
  // On a file-system mount the same word is a file-system parameter.
  BOOST_TEST(fs({"bogus"}).data.size() == 1u);
}

BOOST_AUTO_TEST_CASE(remount_and_empty_options_refused) {
  BOOST_TEST(options_failure({"ro", "remount"}, false) ==
             "m.options[1]: option \"remount\" is not supported: a container mount is always a new mount");
  BOOST_TEST(options_failure({"remount"}, true) ==
             "m.options[0]: option \"remount\" is not supported: a container mount is always a new mount");
  BOOST_TEST(options_failure({"ro", "nosuid", ""}, false) == "m.options[2]: empty mount option");
}

BOOST_AUTO_TEST_CASE(options_are_case_sensitive) {
  auto m = fs({"RO"});
  BOOST_TEST(m.top.empty());
  BOOST_TEST_REQUIRE(m.data.size() == 1u);
  BOOST_TEST(m.data[0].key == "RO");
}

BOOST_AUTO_TEST_CASE(known_options_are_complete_and_recognised) {
  const auto known = known_mount_options();
  const std::set<std::string> set(known.begin(), known.end());
  BOOST_TEST(set.size() == known.size());  // no duplicates
  for (const char* o :
       {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "relatime", "strictatime",
        "nodiratime", "diratime", "atime", "norelatime", "nostrictatime", "nosymfollow", "symfollow", "rro",
        "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "rrelatime",
        "rstrictatime", "rnodiratime", "rdiratime", "ratime", "rnorelatime", "rnostrictatime", "rnosymfollow",
        "rsymfollow", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable",
        "runbindable", "bind", "rbind", "sync", "async", "dirsync", "mand", "nomand", "lazytime", "nolazytime",
        "silent", "loud", "defaults", "tmpcopyup"})
    BOOST_TEST(set.count(o) == 1u, o);
  BOOST_TEST(set.count("remount") == 0u);
  BOOST_TEST(set.count("idmap") == 0u);  // recognised only to be refused: not offered
  BOOST_TEST(known.size() == 57u);
  // Every known option is recognised: none of them ends up as a file-system parameter.
  for (const auto& o : known) {
    auto m = fs({o});
    BOOST_TEST(m.data.empty(), o);
  }
}
