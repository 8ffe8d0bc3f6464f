// The heap malloc hands out next is mapped in one call, before it is written.
#include <boost/test/unit_test.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "runtime/util/prefault.hpp"
#include "support/needs.hpp"

namespace {

constexpr std::size_t kBytes = 96 * 1024;

// How many of the whole pages in [p, p + bytes) are resident.
std::size_t resident_pages(void* p, std::size_t bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  std::vector<unsigned char> v((end - start) / page);
  BOOST_TEST_REQUIRE(::mincore(reinterpret_cast<void*>(start), end - start, v.data()) == 0);
  std::size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;  // GCC's
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);  // clang's
#else
constexpr bool kAddressSanitizer = false;
#endif

test::host::Probe glibc_malloc() {
  if (kAddressSanitizer) return {false, "AddressSanitizer's allocator is not glibc's heap"};
  return {true, "glibc's malloc"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_heap_malloc_hands_out_next_is_resident, *test::needs(glibc_malloc)) {
  // A block from the heap's top: malloc writes only its header.
  void* fresh = std::malloc(kBytes);
  BOOST_TEST_REQUIRE(fresh != nullptr);
  const std::size_t before = resident_pages(fresh, kBytes);
  std::free(fresh);
  agentrun::populate_heap(kBytes);
  void* again = std::malloc(kBytes);
  const std::size_t after = resident_pages(again, kBytes);
  std::free(again);
  BOOST_TEST_REQUIRE(again == fresh);  // the same block, from the same top
  const std::size_t pages = kBytes / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) - 1;
  BOOST_TEST(after >= pages, "resident before: " << before);
}
