#include <boost/test/unit_test.hpp>

#include <string>

#include "runtime/policy/git_credentials.hpp"

using agentrun::policy::without_git_credentials;

// What an agent could read in a repository's .git/config and send away:
// tokens in remote URLs (as CI systems and `gh` leave them), an
// Authorization header, a mail password. What git needs stays.
BOOST_AUTO_TEST_CASE(credentials_are_taken_out_and_the_rest_is_kept) {
  const std::string config =
      "[core]\n"
      "\trepositoryformatversion = 0\n"
      "[remote \"origin\"]\n"
      "\turl = https://x-access-token:ghp_SECRET1@github.com/org/repo.git\n"
      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
      "[remote \"mirror\"]\n"
      "\turl = https://glpat-SECRET2@gitlab.example.com/org/repo\n"
      "\tpushurl = ssh://git:SECRET3@host.example.com:2222/org/repo\n"
      "[remote \"plain\"]\n"
      "\turl = git@github.com:org/repo.git\n"
      "\turl = ssh://git@github.com/org/repo.git\n"
      "[url \"https://user:SECRET4@proxy.example.com/\"]\n"
      "\tinsteadOf = https://github.com/\n"
      "[http \"https://github.com/\"]\n"
      "\textraHeader = AUTHORIZATION: basic SECRET5\n"
      "[sendemail]\n"
      "    smtpPass = SECRET6\n"
      "[branch \"main\"]\n"
      "\tremote = origin\n";
  const auto redacted = without_git_credentials(config);
  BOOST_TEST_REQUIRE(redacted.has_value());
  BOOST_TEST(redacted->find("SECRET") == std::string::npos, *redacted);
  BOOST_TEST(*redacted ==
             "[core]\n"
             "\trepositoryformatversion = 0\n"
             "[remote \"origin\"]\n"
             "\turl = https://github.com/org/repo.git\n"
             "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
             "[remote \"mirror\"]\n"
             "\turl = https://gitlab.example.com/org/repo\n"
             "\tpushurl = ssh://git@host.example.com:2222/org/repo\n"
             "[remote \"plain\"]\n"
             "\turl = git@github.com:org/repo.git\n"
             "\turl = ssh://git@github.com/org/repo.git\n"
             "[url \"https://proxy.example.com/\"]\n"
             "\tinsteadOf = https://github.com/\n"
             "[http \"https://github.com/\"]\n"
             "\t# a secret was here (agentrun)\n"
             "[sendemail]\n"
             "    # a secret was here (agentrun)\n"
             "[branch \"main\"]\n"
             "\tremote = origin\n");
}

BOOST_AUTO_TEST_CASE(a_config_without_credentials_is_left_as_it_is) {
  BOOST_TEST(!without_git_credentials("[remote \"origin\"]\n\turl = https://github.com/org/repo.git\n"
                                      "\turl = git@github.com:org/repo.git\n[user]\n\temail = a@b.example\n"));
  BOOST_TEST(!without_git_credentials(""));
  // An "@" after the host is not a user: a path or a query.
  BOOST_TEST(!without_git_credentials("\turl = https://host.example.com/a@b?c=d@e\n"));
}
