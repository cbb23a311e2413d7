"""Crawl one site and publish every page it fetches to the raw topic (see README.md here).

Run: scrapy runspider examples/scrapy/spider.py -a start_url=https://news.example.com/
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from worker.scrapy_pipeline import PageItem, page_item


class SameSiteSpider(scrapy.Spider):
    """Follows the links of `start_url` that stay on its host and port; yields every page."""

    name = "same-site"
    custom_settings = {  # noqa: RUF012 (Scrapy declares it as a plain attribute)
        "ITEM_PIPELINES": {"worker.scrapy_pipeline.KafkaPipeline": 300},
        # error pages are published too: the worker rejects them with a reason of its own
        "HTTPERROR_ALLOW_ALL": True,
        "ROBOTSTXT_OBEY": True,
        "LOG_LEVEL": "INFO",
    }

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url
        self.site = urlsplit(start_url).netloc
        self.links = LinkExtractor()

    async def start(self) -> AsyncIterator[Request]:
        """The start page, through the duplicate filter (unlike `start_urls`): fetched once."""
        yield Request(self.start_url, self.parse)

    def parse(self, response: Response) -> Iterator[PageItem | Request]:
        """The page itself, then a request for each same-site link of a page that is no error."""
        yield page_item(response, meta={"depth": response.meta.get("depth", 0)})
        if isinstance(response, TextResponse) and response.status < 400:
            for link in self.links.extract_links(response):
                if urlsplit(link.url).netloc == self.site:
                    yield response.follow(link, self.parse)
