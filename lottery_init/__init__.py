"""lottery_init: how do weight-initialization methods compare when searching for lottery tickets?"""
